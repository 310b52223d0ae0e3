"""ActiveCampaign's error answers: the exception that carries AC's exact status and body, and
the shapes AC uses for a missing object, a failed validation and a missing attribute."""

from __future__ import annotations

from typing import Any


class ACError(Exception):
    """An API error with the exact status and body AC would answer."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def not_found(cls_name: str, ident: object, *, status: int = 404, lower: bool = False) -> ACError:
    """404 (or 403) with the internal class name in the text, as AC does."""
    word = "result" if lower else "Result"
    return ACError(status, {"message": f"No {word} found for {cls_name} with id {ident}"})


def validation(title: str, code: str, pointer: str, detail: str = "") -> ACError:
    return ACError(
        422, {"errors": [{"title": title, "detail": detail, "code": code, "source": {"pointer": pointer}}]}
    )


def missing_attribute(name: str) -> ACError:
    return ACError(
        422,
        {
            "errors": [
                {
                    "status": 422,
                    "title": "Missing attribute",
                    "source": {"pointer": f"/data/attributes/{name}"},
                }
            ]
        },
    )


def related_not_found(what: str) -> ACError:
    return ACError(404, {"errors": [{"status": 404, "title": "Not Found", "detail": f"{what} not found"}]})
