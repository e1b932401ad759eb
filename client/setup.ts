/** The account set-up page (/setup/:code); the parts are in setup/. */
import { startSetup } from './setup/app.js';

void startSetup();
