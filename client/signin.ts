/** The staff sign-in page (/signin); the parts are in signin/. */
import { startSignin } from './signin/app.js';

void startSignin();
