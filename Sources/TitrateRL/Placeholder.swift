// Placeholder until the target's first source file lands.
