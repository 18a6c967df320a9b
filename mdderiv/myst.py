"""The ``derive`` directive for MyST documents built with mystmd (Jupyter Book 2).

mystmd takes directives from plugins of two kinds, and this module serves both:

* a **JavaScript plugin** (recommended): ``python -m mdderiv.myst --write-js
  mdderiv.mjs`` writes a small ``.mjs`` file that runs this module for each
  block.  A block that fails is reported by mystmd as an error at
  ``page.md:LINE:COLUMN`` (so ``myst build --strict`` fails) and shows as an
  error box in the page, whose rest is built as usual;
* an **executable plugin**: mystmd runs an executable file (it must be a file
  of the project, e.g. ``mdderiv_plugin.py`` holding ``from mdderiv.myst
  import main; main()``).  The protocol has no way to report an error but a
  failing exit, so a block that fails makes mystmd report the page
  (``Error reading file … LINE:COLUMN: message``) and leave it out.

A derivation is a MyST ``math`` node (display math), rendered by the site's
math renderer and written by the LaTeX, Typst and Markdown exports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .markdown.blocks import BlockCache, Outcome, derive_block, info_line
from .options import OPTIONS

__all__ = ["PLUGIN", "main", "run_directive", "write_js"]

_DIRECTIVE: dict[str, Any] = {
    "name": "derive",
    "doc": "A matrix-calculus derivation, step by step, from a derive block body.",
    "arg": {"type": "string", "doc": "block options as on a fence's info line: layout=numerator …"},
    "options": {name: {"type": "string", "doc": spec.meaning} for name, spec in OPTIONS.items()},
    "body": {"type": "string", "doc": "the block body", "required": True},
}

#: the executable plugin's specification
PLUGIN: dict[str, Any] = {"name": "mdderiv", "directives": [_DIRECTIVE]}


def _start_line(node: dict[str, Any], kind: str | None = None) -> int | None:
    """The first line of ``node`` (or of its child of type ``kind``)."""
    if kind is not None:
        node = next((child for child in node.get("children") or [] if child.get("type") == kind), {})
    line = ((node.get("position") or {}).get("start") or {}).get("line")
    return int(line) if line else None


def _indent(path: str | None, line: int, text: str) -> int:
    """How far the body line ``text`` sits indented at ``line`` of ``path``
    (mystmd gives lines only); read only when a block fails."""
    if not path:
        return 0
    try:
        raw = Path(path).read_text(encoding="utf-8").splitlines()[line - 1].rstrip()
    except (OSError, UnicodeDecodeError, IndexError):
        return 0
    return len(raw) - len(text) if text and raw.endswith(text) else 0


def _position(data: dict[str, Any], body: str, outcome: Outcome) -> tuple[int, int]:
    """Page line and column of a failed block's error."""
    node = data.get("node") or {}
    start = _start_line(node) or 1
    if outcome.on_info_line:  # the argument or an option
        return start, 1
    body_start = _start_line(node, "mystDirectiveBody") or start + 1
    line = body_start + outcome.line - 1
    lines = body.split("\n")
    text = lines[outcome.line - 1].rstrip() if outcome.line <= len(lines) else ""
    return line, _indent(data.get("file"), line, text) + outcome.column


def _cache() -> BlockCache:
    # each block is a process of its own: only a disk cache is any use
    return BlockCache(directory=os.environ.get("MDDERIV_CACHE_DIR") or Path("_build") / "mdderiv-cache")


def run_directive(data: dict[str, Any], cache: BlockCache | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The nodes that replace one ``derive`` directive, and the error
    (``message``, page ``line`` and ``column``) when the block failed."""
    body = str(data.get("body") or "")
    outcome = derive_block(body, info_line(str(data.get("arg") or ""), dict(data.get("options") or {})), None, cache)
    if outcome.ok:
        return [{"type": "math", "value": outcome.latex, "class": "mdderiv-derivation"}], None
    line, column = _position(data, body, outcome)
    message = outcome.error or "error"
    box = {
        "type": "admonition",
        "kind": "error",
        "class": "mdderiv-error",
        "children": [
            {"type": "admonitionTitle", "children": [{"type": "text", "value": "mdderiv could not derive this block"}]},
            {"type": "paragraph", "children": [{"type": "inlineCode", "value": f"{line}:{column}: {message}"}]},
            {"type": "code", "lang": "text", "value": body},
        ],
    }
    return [box], {"message": message, "line": line, "column": column}


_JS = """\
// The `derive` directive of mdderiv for MyST (mystmd, Jupyter Book 2).
// Written by `python -m mdderiv.myst --write-js`; MDDERIV_PYTHON overrides the Python it runs.
import { spawnSync } from 'node:child_process';

const PYTHON = process.env.MDDERIV_PYTHON || __PYTHON__;
const SPEC = __SPEC__;

function stringType(spec) {
  return { ...spec, type: String };
}

const derive = {
  name: SPEC.name,
  doc: SPEC.doc,
  arg: stringType(SPEC.arg),
  options: Object.fromEntries(Object.entries(SPEC.options).map(([name, spec]) => [name, stringType(spec)])),
  body: stringType(SPEC.body),
  run(data, vfile) {
    const input = JSON.stringify({ ...data, file: vfile.path });
    const result = spawnSync(PYTHON, ['-m', 'mdderiv.myst', '--directive-result', 'derive'], {
      input,
      encoding: 'utf-8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) {
      const message = vfile.message(`mdderiv failed: ${result.stderr || result.error}`, data.node);
      message.fatal = true;
      return [];
    }
    const { nodes, error } = JSON.parse(result.stdout);
    if (error) nodes[0].mdderivError = error;  // reported by the transform below
    return nodes;
  },
};

// Errors are reported by a transform, not when the directive runs: mystmd parses a page
// once and reports what the transforms find on every build, which `--strict` counts.
function report(node, vfile) {
  const error = node.mdderivError;
  if (error) {
    const place = { line: error.line, column: error.column };
    const message = vfile.message(`mdderiv: ${error.message}`, { start: place, end: place });
    message.fatal = true;
    message.ruleId = 'mdderiv-block';
  }
  (node.children || []).forEach((child) => report(child, vfile));
}

const reportErrors = {
  name: 'mdderiv-errors',
  doc: 'Report the derive blocks that could not be derived.',
  stage: 'document',
  plugin: () => (tree, vfile) => report(tree, vfile),
};

const plugin = { name: 'mdderiv', directives: [derive], transforms: [reportErrors] };
export default plugin;
"""


def write_js(path: str | os.PathLike[str], python: str | None = None) -> None:
    """Write the JavaScript plugin that runs ``python`` (this interpreter by default)."""
    text = _JS.replace("__PYTHON__", json.dumps(python or sys.executable)).replace("__SPEC__", json.dumps(_DIRECTIVE, indent=2))
    Path(path).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mdderiv.myst", description="The derive directive for mystmd.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--directive", metavar="NAME", help="executable plugin: run a directive (data on stdin)")
    group.add_argument("--directive-result", metavar="NAME", help="JavaScript plugin: run a directive, print nodes and error")
    group.add_argument("--role", help=argparse.SUPPRESS)
    group.add_argument("--transform", help=argparse.SUPPRESS)
    group.add_argument("--write-js", metavar="FILE", help="write the JavaScript plugin (e.g. mdderiv.mjs)")
    args = parser.parse_args(argv)
    name = args.directive or args.directive_result
    if name is not None:
        if name != "derive":
            raise SystemExit(f"mdderiv has no directive {name!r}")
        nodes, error = run_directive(json.load(sys.stdin), _cache())
        if args.directive_result:
            json.dump({"nodes": nodes, "error": error}, sys.stdout)
            return
        if error:
            print(f"mdderiv: {error['line']}:{error['column']}: {error['message']}", file=sys.stderr)
            raise SystemExit(1)
        json.dump(nodes, sys.stdout)
    elif args.write_js:
        write_js(args.write_js)
    elif args.role or args.transform:
        raise SystemExit("mdderiv defines no roles or transforms")
    else:
        json.dump(PLUGIN, sys.stdout)


if __name__ == "__main__":
    main()
