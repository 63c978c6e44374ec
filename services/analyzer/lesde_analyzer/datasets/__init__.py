"""Uploaded data sets: the validation job that turns an upload into a usable data set."""
