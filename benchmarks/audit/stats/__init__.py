"""The statistics of an audit: exact and score intervals for rates, the seeded cluster
bootstrap (engine, views, BCa), clusters of conversations, fixed-FPR operating points,
deployment prevalence and subgroup breakdowns. Nothing here knows about claims or cards."""
