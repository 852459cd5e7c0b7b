"""The study library: turning course files into cited, searchable passages."""
