"""Graphs shipped with Atrium, listed in ``agents/langgraph.json``, and the pieces to compose your own.

Framework-pure: nothing here imports the control plane. The runtime hands graphs what they need
through ``config["configurable"]``, the run's ``context``, and the checkpointer and store it injects.
"""
