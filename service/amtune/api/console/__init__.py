"""The web console at ``/console/``: one more thin transport over the application layer."""
