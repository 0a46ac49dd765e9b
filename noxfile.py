"""Developer sessions: ``nox -s tests lint typing`` (what CI runs), ``nox -s bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


def _installed_python() -> list[str] | None:
    # The interpreters that really run here (a pyenv shim of an inactive version is on PATH
    # but fails, and nox under CI=true treats a missing interpreter as an error).
    import subprocess

    def runs(version: str) -> bool:
        try:
            return (
                subprocess.run([f"python{version}", "-c", ""], capture_output=True).returncode == 0
            )
        except OSError:
            return False

    return [v for v in PYTHONS if runs(v)] or None


@nox.session(python=_installed_python())
def tests(session: nox.Session) -> None:
    """The test suite (unit, end-to-end against the local server, interop, CLI)."""
    session.install("-e", ".[test]")
    session.run("python", "tools/gen_sync.py", "--check")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.17,<0.18")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over the package, tools, tests and benchmarks."""
    session.install("-e", ".[test]", "mypy>=1.10")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks side by side with the peers; ``nox -s bench -- --quick`` for a smoke run."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, built with ``--strict`` (a broken link or reference fails).

    ``nox -s docs -- serve`` serves it on http://127.0.0.1:8000 instead, rebuilt on change.
    """
    # ruff formats the signatures in the reference (as in CI, where the dev extra brings it).
    session.install("-e", ".[docs]", "ruff>=0.17,<0.18")
    session.env["NO_MKDOCS_2_WARNING"] = "1"  # the theme's end-of-life banner, on every build
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", "--strict", *session.posargs[1:])
        return
    session.run("mkdocs", "build", "--strict", "--site-dir", session.create_tmp() + "/site")
