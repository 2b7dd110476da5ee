"""Checks anyone can rerun from a lake: the figures of docs/VALIDATION.md.

Each module measures one stage through the same code users run (`truceline detect`,
`truceline assess`) and returns plain dicts: `detection.py` for the war-fire calls
(`truceline validate detection`).
"""
