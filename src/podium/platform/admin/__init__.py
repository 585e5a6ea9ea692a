"""Organisers' views of the platform: the queue and the executors' capacity."""
