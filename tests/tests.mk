# Tests, the VM runner, check and demo.  Included by the top-level Makefile.
check:
demo:
