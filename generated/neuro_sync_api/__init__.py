"""A client library for accessing Neuromation platform jobs API (August 2019)"""
# No imports here: `neuro_sync_api.types` and the fast readers are read without `requests`,
# which only `neuro_sync_api.client` (the generated endpoints' transport core) loads.
