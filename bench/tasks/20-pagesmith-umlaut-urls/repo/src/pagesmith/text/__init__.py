"""Text processing for page bodies: Markdown subset, heading anchors, excerpts."""
