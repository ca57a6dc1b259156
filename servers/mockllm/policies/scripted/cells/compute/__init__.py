"""One measuring cell per synthetic task type, named after the task."""
