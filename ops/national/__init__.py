"""A synthetic national programme on demand (`make seed-national`): see ops.national.seed."""
