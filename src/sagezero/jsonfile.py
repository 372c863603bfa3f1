"""Read a user-supplied JSON file, turning every way it can be wrong into one line naming the file.

Pure: no Pulumi, no boto3; callers wrap the message in their own error type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class JsonFileError(ValueError):
    """The file is missing or not JSON; the message starts with its path."""


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise JsonFileError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise JsonFileError(f"{path}: not valid JSON ({e})") from None
