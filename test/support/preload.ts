// Preloaded by bun test (bunfig.toml): an afterAll here runs once, after every test file.
import { afterAll } from "bun:test";
import { endStartedTgwh } from "./tgwh";

afterAll(endStartedTgwh);
