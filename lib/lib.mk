# libhapmem: built into $(BUILD)/lib.  Included by the top-level Makefile.
lib:
