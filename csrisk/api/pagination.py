from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """`{"count", "next", "previous", "results"}` with `page_size` up to 1000 (CONTRACT.md).

    A page_size that is not a positive whole number is a 400, not silently the default;
    one above 1000 is capped at 1000.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int:
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        raw = values[0]
        if len(values) > 1 or not raw.isdigit() or int(raw) < 1:
            raise ValidationError({"page_size": "Use a whole number from 1 to 1000."})
        return min(int(raw), self.max_page_size)

    def get_page_number(self, request: Request, paginator: object) -> str | int:
        values = request.query_params.getlist(self.page_query_param)
        if not values:
            return 1
        if len(values) > 1 or not values[0].isdigit() or int(values[0]) < 1:
            raise ValidationError({"page": "Give one page number: a whole number from 1."})
        return values[0]

    def get_schema_operation_parameters(self, view: object) -> list[dict]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] in (self.page_query_param, self.page_size_query_param):
                param["schema"]["minimum"] = 1
        return params
