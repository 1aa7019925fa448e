"""A run's outputs on a local folder or on object storage, behind one API.

`Outputs` (``ctx.outputs``) writes, reads, lists and refers to a run's outputs
under its prefix; `OutputRef` is a reference any worker can open. The stores
behind it are `LocalBackend` (a folder: temporary file and rename) and
`ObjectStoreBackend` (S3, GCS, Azure Blob or memory, through obstore). `sweep`
removes what killed writers left behind.
"""
