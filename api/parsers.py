from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's, with JSON nested past Python's recursion limit refused like any other bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("The JSON is nested too deeply.") from None
