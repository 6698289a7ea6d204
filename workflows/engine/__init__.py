"""SpiffWorkflow glue: parsing and checking bundles, the sandboxed script engine, serialization."""
