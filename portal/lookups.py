"""`field__any_of=[...]`: the same rows as `__in`, sent to PostgreSQL as one array parameter (`= ANY(%s)`).

Django writes `__in` as one placeholder per value, and psycopg quotes each into the statement's text: 2,961
keys looked up by a catalog import took 28 ms that way (in IN lists of 500) and take 7 ms as one array.
Other databases get a plain IN, so callers still keep their lists to a size every database accepts.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field
from django.db.models.lookups import In


@Field.register_lookup
class AnyOf(In):
    lookup_name = "any_of"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        values = [value for value in self.rhs if value is not None]  # as IN: NULL matches nothing
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, values)
