# SPDX-License-Identifier: GPL-2.0-only
#
# Sphinx configuration for hapmem's documentation (make htmldocs).
#
# The kernel-doc directive is the kernel's own Sphinx extension, used in
# place from the extracted linux-source tree (scripts/kernel-source; make
# passes it as HAPMEM_KSRC): Documentation/sphinx/kerneldoc.py and
# scripts/kernel-doc.  Nothing of it is copied here.

import os
import subprocess
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ksrc = os.environ.get("HAPMEM_KSRC") or subprocess.run(
    [os.path.join(top, "scripts", "kernel-source")], check=True,
    stdout=subprocess.PIPE, text=True).stdout.strip()
sys.path.insert(0, os.path.join(ksrc, "Documentation", "sphinx"))

project = "hapmem"
author = "The hapmem authors"
copyright = "2026, The hapmem authors"

extensions = ["kerneldoc"]
kerneldoc_bin = os.path.join(ksrc, "scripts", "kernel-doc")
kerneldoc_srctree = top
kerneldoc_verbosity = 0

master_doc = "index"
source_suffix = ".rst"
exclude_patterns = ["_build"]
primary_domain = "c"
highlight_language = "none"

# Every cross reference must resolve (make htmldocs runs with -W).  The
# uapi fixed-width types are the kernel's, not documented here.
nitpicky = True
nitpick_ignore = [("c:identifier", t) for t in
                  ("__u8", "__u16", "__u32", "__u64",
                   "__s8", "__s16", "__s32", "__s64")]

html_theme = "alabaster"
html_title = "hapmem"
html_show_sourcelink = False
