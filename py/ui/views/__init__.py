"""The app's screens. Each view builds on client handles, subscribes with callbacks, renders text only."""
