"""An mkdocs hook: links from the pages to the exact line of minikeras code that does each thing.

In a page, `[[minikeras/layers/dense.py | kernels.dense_forward(]]` becomes a link whose text is
`minikeras/layers/dense.py:NN`, NN being the line that holds that text, and whose target is the
API reference of the function or class around that line. The line is looked up at every build,
so the number follows the code; a text that is no longer in the file, or that is there more than
once, is reported and fails `mkdocs build --strict`.
"""

import ast
import logging
import pathlib
import re

log = logging.getLogger("mkdocs.hooks.source_lines")
ROOT = pathlib.Path(__file__).resolve().parents[2]
PATTERN = re.compile(r"\[\[\s*([\w/.]+\.py)\s*\|\s*(.+?)\s*\]\]")


def _read(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    return text.splitlines(), ast.parse(text)


def _enclosing(tree, line):
    """The dotted names of the classes and functions that hold `line`, outermost first."""
    names, body = [], tree.body
    while True:
        for node in body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and (
                node.lineno <= line <= node.end_lineno
            ):
                names.append(node.name)
                body = node.body
                break
        else:
            return names


def locate(path, snippet):
    """(line number, reference anchor to link to) of the one line of `path` holding `snippet`."""
    lines, tree = _read(path)
    found = [n for n, text in enumerate(lines, 1) if snippet in text]
    if len(found) != 1:
        where = "is not" if not found else f"is on {len(found)} lines ({found}) and not once"
        raise LookupError(f"{snippet!r} {where} in {path}")
    anchor = [path[: -len(".py")].replace("/", ".").removesuffix(".__init__")]
    for name in _enclosing(tree, found[0]):
        if name.startswith("_"):  # private: the reference shows its public owner
            break
        anchor.append(name)
    return found[0], ".".join(anchor)


def on_page_markdown(markdown, page, config, files):
    def link(match):
        path, snippet = match.group(1), match.group(2)
        try:
            line, anchor = locate(path, snippet)
        except (LookupError, OSError, SyntaxError) as error:
            log.warning(f"{page.file.src_path}: source link [[{path} | {snippet}]]: {error}")
            return f"`{path}`"
        return f"[`{path}:{line}`][{anchor}]"

    return PATTERN.sub(link, markdown)
