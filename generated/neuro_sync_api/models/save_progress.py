from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.save_progress_aux import SaveProgressAux
from ..models.save_progress_details import SaveProgressDetails
from ..models.save_progress_error_detail import SaveProgressErrorDetail
from ..types import UNSET, Unset


@_attrs_define
class SaveProgress:
    """One line of the save ndjson stream; a line with `error` is a failure."""

    status: str | Unset = UNSET
    """ CommitStarted, CommitFinished, then Docker push progress. """

    details: SaveProgressDetails | Unset = UNSET

    error: str | Unset = UNSET

    error_detail: SaveProgressErrorDetail | Unset = UNSET

    aux: SaveProgressAux | Unset = UNSET

    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        details: dict[str, Any] | Unset = UNSET
        if not isinstance(self.details, Unset):
            details = self.details.to_dict()

        error = self.error

        error_detail: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error_detail, Unset):
            error_detail = self.error_detail.to_dict()

        aux: dict[str, Any] | Unset = UNSET
        if not isinstance(self.aux, Unset):
            aux = self.aux.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        if status is not UNSET:
            field_dict["status"] = status
        if details is not UNSET:
            field_dict["details"] = details
        if error is not UNSET:
            field_dict["error"] = error
        if error_detail is not UNSET:
            field_dict["errorDetail"] = error_detail
        if aux is not UNSET:
            field_dict["aux"] = aux
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        status = d.pop("status", UNSET)
        _details = d.pop("details", UNSET)
        details: SaveProgressDetails | Unset
        if isinstance(_details, Unset):
            details = UNSET
        else:
            details = SaveProgressDetails.from_dict(_details)

        error = d.pop("error", UNSET)
        _error_detail = d.pop("errorDetail", UNSET)
        error_detail: SaveProgressErrorDetail | Unset
        if isinstance(_error_detail, Unset):
            error_detail = UNSET
        else:
            error_detail = SaveProgressErrorDetail.from_dict(_error_detail)

        _aux = d.pop("aux", UNSET)
        aux: SaveProgressAux | Unset
        if isinstance(_aux, Unset):
            aux = UNSET
        else:
            aux = SaveProgressAux.from_dict(_aux)

        save_progress = cls(
            status,
            details,
            error,
            error_detail,
            aux,
        )
        save_progress.additional_properties = d
        return save_progress

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
