"""The event platform: its API (`api`: paths, paging, reads) and how it lists tags (`tags`)."""
