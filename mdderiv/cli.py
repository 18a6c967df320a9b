"""The ``mdderiv`` command line.

``mdderiv derive`` derives one block body (spec §7); ``mdderiv render``
expands every derive block of a Markdown post.  Exit status: 0 done,
1 bad input (the message says where), 2 usage error or a bug in mdderiv.
No traceback ever reaches the user: everything is caught at the top.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import DeriveError
from .options import SITE_WIDE, Options

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2

_MAIN_HELP = """\
Derive matrix-calculus results step by step from ```derive``` blocks.

A block body names the variables, the objective and what to differentiate by:

    given: A \\in \\mathbb{R}^{m \\times n}, \\mathbf{x} \\in \\mathbb{R}^{n}, \\mathbf{b} \\in \\mathbb{R}^{m}
    f = \\|A\\mathbf{x} - \\mathbf{b}\\|^2
    wrt: \\mathbf{x}
"""

_MAIN_EPILOG = """\
examples:
  mdderiv derive examples/least-squares.derive           derivation as LaTeX
  mdderiv derive --format text examples/least-squares.derive
  echo 'given: x: n
f = x^T x
wrt: x' | mdderiv derive --format json -
  mdderiv render post.md -o out/post.md --flavor jekyll
  mdderiv render post.md --html -o post.html             quick look in a browser

next steps:
  in MkDocs add `plugins: [mdderiv]` to mkdocs.yml; with Python-Markdown use
  the `mdderiv` extension.  `mdderiv COMMAND --help` tells more.
"""

_DERIVE_EPILOG = """\
examples:
  mdderiv derive examples/least-squares.derive
  mdderiv derive --format json --layout numerator examples/two-layer.derive
  mdderiv derive --format text --lang zh - < block.txt

FILE holds what goes between the fences (option lines such as `layout:
numerator` included).  Command-line options override the block's own.
json: {"ok": true, "symbols": …, "results": …, "steps": …, "check": …};
on bad input {"ok": false, "error": {"message", "line", "column"}} and exit 1.
"""

_RENDER_EPILOG = """\
examples:
  mdderiv render post.md                         expanded Markdown on stdout
  mdderiv render post.md -o _posts/post.md --flavor jekyll
  mdderiv render drafts/post.md --flavor hexo -o source/_posts/post.md
  mdderiv render post.md --html -o post.html      standalone page with MathJax
  mdderiv render --watch drafts -o rendered       re-render on every save (Ctrl-C stops)

Every derive block becomes $$ … $$ display math; every other byte of the file
is kept.  jekyll/hexo flavours break `{{`, `{%` and `{#` in the math so
Liquid/Nunjucks leave it alone; hexo also puts it in {% raw %}…{% endraw %}, so
Hexo's default Markdown renderer (hexo-renderer-marked) never reads it.  If any block fails, the errors are printed as
FILE:LINE:COL: message, nothing is written and the exit status is 1.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a hint, never a traceback."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INTERNAL, f"{self.prog}: error: {message}\n(try `{self.prog} --help`)\n")


def _add_option_flags(parser: argparse.ArgumentParser, prefix: str) -> None:
    """One flag per site-wide block option (mdderiv.options): ``--NAME CHOICE`` for a choice;
    for a boolean, the flag that changes its default (``--no-check``, ``--solve``).  An unset
    flag is ``None``, so only what is given overrides."""
    for spec in SITE_WIDE:
        if spec.is_boolean and spec.default:
            parser.add_argument(
                f"--no-{spec.name}", dest=spec.name, action="store_false", default=None,
                help=f"{prefix}no {spec.meaning}",
            )
        elif spec.is_boolean:
            parser.add_argument(f"--{spec.name}", action="store_true", default=None, help=prefix + spec.meaning)
        elif spec.is_number:
            parser.add_argument(
                f"--{spec.name}", type=float, metavar="SECONDS",
                help=f"{prefix}{spec.meaning} (default: {spec.default_text})",
            )
        else:
            parser.add_argument(
                f"--{spec.name}", choices=spec.choices, help=f"{prefix}{spec.meaning} (default: {spec.default})"
            )


def _given_options(args: argparse.Namespace) -> dict[str, Any]:
    return {spec.name: value for spec in SITE_WIDE if (value := getattr(args, spec.name)) is not None}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mdderiv",
        description=_MAIN_HELP,
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mdderiv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    derive = sub.add_parser(
        "derive",
        help="derive one block body (FILE, or - for stdin)",
        description="Derive one block body and print the derivation.",
        epilog=_DERIVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    derive.add_argument("file", metavar="FILE", help="file holding a block body; - reads stdin")
    derive.add_argument(
        "--format", "-f", choices=("latex", "json", "text"), default="latex", help="output (default: latex)"
    )
    _add_option_flags(derive, "")

    render = sub.add_parser(
        "render",
        help="expand every derive block of a Markdown post",
        description="Expand every derive block of a Markdown post into display math.",
        epilog=_RENDER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument("post", metavar="POST.md", nargs="?", help="the post (- reads stdin)")
    render.add_argument("-o", "--output", metavar="OUT", help="output file (directory with --watch); default stdout")
    render.add_argument("--flavor", choices=("plain", "jekyll", "hexo"), default="plain", help="blog engine")
    render.add_argument("--html", action="store_true", help="write a standalone HTML page (MathJax) instead")
    render.add_argument("--watch", metavar="DIR", help="re-render changed .md files under DIR into -o OUT")
    render.add_argument("--interval", type=float, default=1.0, help="seconds between polls with --watch")
    render.add_argument("--max-cycles", type=int, default=None, help="stop --watch after this many polls")
    _add_option_flags(render, "default for the post's blocks: ")
    return parser


def _write(text: str, stream: Any = None) -> None:
    """Print UTF-8 whatever the locale says (Chinese step notes on a C locale)."""
    stream = stream or sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write((text + "\n").encode("utf-8"))
        buffer.flush()
    else:
        print(text, file=stream)


def _read_input(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read()
    else:
        data = Path(name).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DeriveError(f"the input is not UTF-8 text (byte {err.start})", 1, 1) from None


def _error_object(err: DeriveError) -> dict[str, Any]:
    """``{"ok": false, "error": {...}}`` (spec §7), from the renderer when it is there."""
    try:
        from .render.json import error_to_json

        obj = error_to_json(err)
    except ImportError:
        obj = err.to_json()
    if isinstance(obj, dict) and "ok" in obj:
        return obj
    return {"ok": False, "error": obj}


def _cmd_derive(args: argparse.Namespace) -> int:
    import mdderiv

    name = "<stdin>" if args.file == "-" else args.file
    options = _given_options(args)
    try:
        # a FILE holding a whole fence (```derive … ```) is read by derive() itself:
        # its info line gives options, and error positions count from the fence line
        derivation = mdderiv.derive(_read_input(args.file), **options)
        if args.format == "json":
            output = json.dumps(derivation.to_json(), ensure_ascii=False, indent=2)
        elif args.format == "text":
            output = derivation.text()
        else:
            output = derivation.latex()
    except DeriveError as err:
        if args.format == "json":
            _write(json.dumps(_error_object(err), ensure_ascii=False, indent=2))
        else:
            _write(f"{name}:{err.line}:{err.column}: {err.message}", sys.stderr)
        return EXIT_BAD_INPUT
    _write(output)
    return EXIT_OK


def _cmd_render(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .markdown import blog

    defaults = Options().merged(_given_options(args))

    if args.watch:
        if args.post or not args.output:
            parser.error("--watch DIR needs -o OUTDIR and no POST.md")
        print(f"watching {args.watch} (Ctrl-C stops)", file=sys.stderr)
        failed = blog.watch(
            args.watch,
            args.output,
            args.flavor,
            args.html,
            defaults,
            interval=args.interval,
            max_cycles=args.max_cycles,
            report=lambda line: print(line, file=sys.stderr, flush=True),
        )
        return EXIT_BAD_INPUT if failed else EXIT_OK

    if not args.post:
        parser.error("render needs POST.md (or --watch DIR)")
    name = "<stdin>" if args.post == "-" else args.post
    try:
        if args.post == "-":  # byte-exact: keep a BOM and every line end
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            text = blog.read_post(args.post)
    except UnicodeDecodeError as err:
        print(f"{name}:1:1: the file is not UTF-8 text (byte {err.start})", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.html:
            output = blog.render_html(text, name, defaults)
        else:
            output = blog.render_text(text, args.flavor, name, defaults)
    except blog.RenderError as err:
        for failure in err.failures:
            _write(str(failure), sys.stderr)
        print(f"{name}: {len(err.failures)} block(s) failed; nothing written", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.output:
        blog.write_atomic(args.output, output.encode("utf-8"))
    else:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:  # byte-exact: no newline translation, no added newline
            buffer.write(output.encode("utf-8"))
            buffer.flush()
        else:
            sys.stdout.write(output)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "derive":
            return _cmd_derive(args)
        if args.command == "render":
            return _cmd_render(args, parser)
        parser.print_help()
        return EXIT_INTERNAL
    except SystemExit as exit_:
        return int(exit_.code or 0) if isinstance(exit_.code, int) or exit_.code is None else EXIT_INTERNAL
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        print(f"mdderiv: cannot read {err.filename}: {err.strerror}", file=sys.stderr)
        return EXIT_INTERNAL
    except OSError as err:
        print(f"mdderiv: {err}", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as err:  # noqa: BLE001 - a bug must not show as a traceback
        print(
            f"mdderiv: internal error ({type(err).__name__}: {err}).\n"
            "This is a bug in mdderiv; please file an issue with the input that caused it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
