"""Process instances: state, history, timers and incidents."""
