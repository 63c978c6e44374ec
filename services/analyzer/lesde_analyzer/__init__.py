"""lesde_analyzer."""
