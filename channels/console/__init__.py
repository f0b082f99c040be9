"""The hotline staff console at ``/console``: queue, conversation view, reply, close, audit."""
