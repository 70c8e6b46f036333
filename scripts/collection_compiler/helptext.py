"""Help for people: defaults in every option's help, examples under each command, `collection help settings`."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from dataclasses import fields

from collection_compiler import settings as settings_module

GROUPS = {"@endpoints": settings_module.ENDPOINTS, "@network": settings_module.NETWORK}


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and shows an option's default where it has a meaningful one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if text == argparse.SUPPRESS:
            return text
        shown = action.default not in (None, False, [], argparse.SUPPRESS) and "default" not in text
        return f"{text} (default: %(default)s)".lstrip() if shown and action.option_strings else text


def epilog(example_lines: tuple[str, ...], names: tuple[str, ...] | None) -> str:
    """Examples, then the command's other settings by name (`collection help settings` describes them once)."""
    parts = ["examples:\n" + "\n".join(f"  {line}" for line in example_lines)] if example_lines else []
    others = [settings_module.flag(n) for n in settings_module.command_settings(names)
              if n not in settings_module.PATHS]
    if others:
        parts.append(textwrap.fill("also reads the settings " + ", ".join(others), 100, subsequent_indent="  ",
                                   break_on_hyphens=False, break_long_words=False))
    parts.append("all settings, their defaults and environment variables: collection help settings")
    return "\n\n".join(parts)


def setting_names(wanted: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """A command's settings with the groups (`@network`) spelled out; None (all) stays None."""
    if wanted is None:
        return None
    return tuple(name for item in wanted for name in GROUPS.get(item, (item,)))


def settings_text() -> str:
    lines = ["Settings: a flag beats a COLLECTION_* environment variable, which beats the default.",
             "Each command's --help names the ones it reads.", ""]
    for f in fields(settings_module.Settings):
        if f.name == "github_token":
            lines += ["  GITHUB_TOKEN (environment only)", "      token for the GitHub API and git pushes", ""]
            continue
        lines += [f"  {settings_module.flag(f.name)} {f.name.upper()}", f"      {settings_module.describe(f.name)}", ""]
    return "\n".join(lines)


def show_help(topic: str | None, build_parser: Callable[..., argparse.ArgumentParser]) -> int:
    """`collection help [settings|COMMAND]`."""
    from collection_compiler.cli import COMMANDS
    from collection_compiler.errors import UsageError

    if topic == "settings":
        print(settings_text(), end="")
    elif topic in COMMANDS:
        build_parser([topic]).parse_args([topic, "--help"])
    elif topic is None:
        build_parser().print_help()
    else:
        raise UsageError(f"no help on {topic!r}", hint="try: collection help settings, or collection --help")
    return 0
