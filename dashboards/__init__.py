"""Streamlit dashboards: analytics from the warehouse marts, actions through core_app services."""
