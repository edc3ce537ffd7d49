"""Limit/offset pagination with bounds: huge numbers never reach the database."""

from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**12  # far beyond any real table, far inside a 64-bit integer


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_OFFSET)
