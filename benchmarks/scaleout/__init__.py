"""Scale-out: score one split in shards on a Ray cluster, and merge them into one result.

Conversations are assigned to shards by a hash of their id (never by position, so a shard holds
the same conversations whatever the engine's block layout or the corpus order); each shard is
scored by a Ray actor that builds the detector once; the driver writes each finished shard's
traces atomically, checks that every conversation was scored exactly once, and computes every
number from the union in corpus order, so that the result does not depend on the number of
shards or on the backend. Workers never talk to MLflow; the driver logs once.

* :mod:`benchmarks.backend` (outside this package, read by the plan): ``runner.backend`` and
  ``runner.ray.*``.
* :mod:`benchmarks.scaleout.shards`: the hash assignment, the shard store (atomic files,
  resume) and the merge.
* :mod:`benchmarks.scaleout.recipe`: what a worker needs to build the detector itself.
* :mod:`benchmarks.scaleout.ray_backend`: the actors and the driver's loop (imports Ray).
"""
