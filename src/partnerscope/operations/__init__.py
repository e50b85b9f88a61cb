"""Operations on the partner channel: deal registration and lead routing."""
