"""Recognition: engines, charsets, preprocessing, field reading and Japanese post-processing."""
