"""The Python type of the Metadata scalar (DateTime is datetime.datetime)."""

Metadata = dict[str, str | list[str]]
