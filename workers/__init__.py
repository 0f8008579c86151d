"""RQ jobs and the worker entry point; queues and retry policies are declared in queues.py."""
