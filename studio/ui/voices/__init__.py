"""The Voices workspace: import/record a reference clip, edit it, save it as a Voice."""
