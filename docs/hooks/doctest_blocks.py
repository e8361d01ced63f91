"""An mkdocs hook: the `>>>` examples of the docstrings (and of the pages) shown as code.

Docstrings carry runnable examples in the doctest form, which Markdown would otherwise read as
nested quotes. A block of lines that starts with `>>> ` (the following `... ` lines and the
expected output up to the next blank line with it) is wrapped in a `pycon` code fence.
"""

from markdown import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority


class _DoctestFences(Preprocessor):
    def run(self, lines):
        out, in_fence, in_doctest, indent = [], False, False, ""
        for line in lines:
            stripped = line.lstrip()
            if in_doctest and not stripped:
                out.append(indent + "```")
                in_doctest = False
            if stripped.startswith("```") and not in_doctest:
                in_fence = not in_fence
            elif not in_fence and not in_doctest and stripped.startswith(">>>"):
                indent = line[: len(line) - len(stripped)]
                out.append(indent + "```pycon")
                in_doctest = True
            out.append(line)
        if in_doctest:
            out.append(indent + "```")
        return out


class DoctestFences(Extension):
    def extendMarkdown(self, md):  # noqa: N802 (Python-Markdown's name)
        # after whitespace normalisation (30), before the fenced-code preprocessors (25)
        md.preprocessors.register(_DoctestFences(md), "doctest_fences", 29)


@event_priority(100)  # before mkdocstrings reads the Markdown extensions
def on_config(config):
    config.markdown_extensions.append(DoctestFences())
    return config
