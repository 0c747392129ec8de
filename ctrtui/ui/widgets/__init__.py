"""The widgets of the main screen and of the modal screens, one (or a small family) per module."""
