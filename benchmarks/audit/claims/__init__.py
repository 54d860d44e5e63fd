"""An auditor's claim: the claim model (:mod:`.claim`), power and sample size (:mod:`.power`),
the plan printed before a run (:mod:`.plan`) and the verdicts after it (:mod:`.verdicts`).
Each module builds on the ones before it; none imports a later one."""
