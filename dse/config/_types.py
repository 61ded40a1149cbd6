"""Field types for numbers and switches a person writes in a YAML file.

pydantic's lax mode turns `true` into 1, `'700'` into 700.0 and `'yes'` into True. A
config value is never guessed from a string (docs/hardware-format.md), and a boolean
where a size belongs is always a typo, so these types refuse both before pydantic's own
checks run (ranges still come from `Field(gt=..., le=...)` at each use):

- `Number`: an int or a float, never a bool or a string;
- `Count`: a whole number (an int, or a float without a fraction such as an expression's
  `4.0`), never a bool or a string;
- `Flag`: exactly `true` or `false`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Strict
from pydantic_core import PydanticCustomError

NOT_A_NUMBER = "not_a_number"
NOT_A_WHOLE_NUMBER = "not_a_whole_number"


def _number(value: Any) -> Any:
    if isinstance(value, bool | str | bytes):
        raise PydanticCustomError(NOT_A_NUMBER, "must be a number")
    return value


def _count(value: Any) -> Any:
    if isinstance(value, bool | str | bytes):
        raise PydanticCustomError(NOT_A_WHOLE_NUMBER, "must be a whole number")
    return value


Number = Annotated[float, BeforeValidator(_number)]
Count = Annotated[int, BeforeValidator(_count)]
Flag = Annotated[bool, Strict()]
