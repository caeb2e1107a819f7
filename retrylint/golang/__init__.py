"""Reading Go code without compiling it: tree-sitter parsing, package lookup, constant values."""
