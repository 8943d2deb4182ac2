"""The one-line message of the ConfigError a call raises (shared by the validation tests)."""

from __future__ import annotations

import pytest

from braggcheck import ConfigError


def one_line_message(call, *args, **kwargs) -> str:
    with pytest.raises(ConfigError) as error:
        call(*args, **kwargs)
    text = str(error.value)
    assert "\n" not in text
    return text
