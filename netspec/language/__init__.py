"""The language: parse (lark), the AST, lowering into the IR, evaluation, and the formatter."""
