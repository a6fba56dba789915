"""The ``ucs`` administration commands: each wraps the REST API of a running server
(``rest.py``: where, with which token, how answers and refusals are shown), for the
directory (``directory.py``: agents, phones, queues, AUX reasons, settings) and the records
(``records.py``: call records, statistics, the simulator)."""

__all__: list[str] = []
