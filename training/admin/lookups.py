"""What every admin of the app shares: a filter value no column can hold is a bad filter, not a server error."""

from django.contrib.admin.options import IncorrectLookupParameters


class OutOfRangeLookupsAreIncorrect:
    """Put first among an admin's bases. SQLite cannot bind an integer beyond 64 bits, so `?profile=99…9`
    raised OverflowError when the list was counted; it now gets the admin's redirect to ``?e=1``, as any other
    filter it cannot apply. (Django already answers such values on plain integer fields with no rows.)"""

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error
