"""docs/errors.md lists every code of the error vocabulary."""

from pathlib import Path

from podium.errors import Code

DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def test_every_code_is_documented() -> None:
    text = DOC.read_text()
    missing = [c.value for c in Code if f"`{c.value}`" not in text]
    assert not missing, f"add to docs/errors.md: {missing}"
