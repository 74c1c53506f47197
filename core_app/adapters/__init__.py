"""Adapters: ORM mapping, repositories, encryption, password hashing, database engines."""
