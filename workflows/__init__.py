"""credflow's core: the domain and the workflow engine. Imports no Flask."""
